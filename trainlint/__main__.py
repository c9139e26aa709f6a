import os
import sys

# `python -m` puts the working directory first on sys.path, so a project's json.py or enum.py would be
# imported (run) instead of the standard library's. It stays only where trainlint itself comes from.
if sys.path and os.path.realpath(sys.path[0] or os.curdir) == os.path.realpath(os.curdir):
    if os.path.realpath(os.path.dirname(os.path.dirname(__file__))) != os.path.realpath(os.curdir):
        del sys.path[0]

from trainlint.cli import main

sys.exit(main())
