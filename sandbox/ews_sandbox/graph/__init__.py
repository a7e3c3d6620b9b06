"""Microsoft Graph v1.0 (mail) and the Microsoft identity platform's client-credentials flow, over the EWS sandbox's
store, users, delivery, Outbox, faults and latency model. See the README's "Microsoft Graph" section."""
