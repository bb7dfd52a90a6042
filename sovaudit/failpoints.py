"""Named crash points for the crash-safety tests: SOVAUDIT_FAILPOINT=<name> kills the process there.

Production runs never set the variable; the check is one dictionary lookup.
"""

import os
import signal


def hit(name: str) -> None:
    if os.environ.get("SOVAUDIT_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
