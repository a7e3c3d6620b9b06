# -*- coding: utf-8 -*-
# Copyright: exchange.ews contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One small class per EWS operation, each wrapping ``client.EwsClient.call``.

A service builds the request body from plain Python values, calls the
client once per batch and returns ``responses.ResponseMessage`` objects in
the order of its input, so callers can zip results with what they asked for.
"""
