"""The collection where Ansible and the seeding helpers find it: build/collections/ansible_collections/exchange/ews,
a link to this checkout (the one `make collection` makes), also on sys.path."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / "build" / "collections"

link = COLLECTIONS / "ansible_collections" / "exchange" / "ews"
link.parent.mkdir(parents=True, exist_ok=True)
try:
    link.symlink_to(ROOT)
except FileExistsError:  # made before, by make or another leg
    pass
sys.path.insert(0, str(COLLECTIONS))
