"""``python -m schemagate ARGS``: the installed binary with ARGS."""

import os
import subprocess
import sys

from . import find_schemagate_bin


def main():
    exe = find_schemagate_bin()
    if os.name == "nt":
        sys.exit(subprocess.call([exe, *sys.argv[1:]]))
    os.execv(exe, [exe, *sys.argv[1:]])


if __name__ == "__main__":
    main()
