"""Stand-in for ansible-test's downloaded get-pip.py bootstrap script.

ansible-test bootstraps pip in its per-test virtualenvs by running get-pip.py,
which it downloads from a host this network cannot reach; it uses a cached copy
when one exists. This stand-in gets pip from the interpreter's own ensurepip and
then installs what get-pip.py would have installed.

ensurepip runs in a subprocess on purpose: run in-process it disables pip's
configuration files, which carry this machine's certificate and index settings.
"""
import subprocess
import sys

# Options only get-pip.py understands; `pip install` would reject them.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
pip_args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + pip_args)
