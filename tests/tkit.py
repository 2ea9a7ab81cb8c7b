"""What the Python tests (tests/t_*.py) share: the check counter and the
closing line "N passed, N failed" that CI reads, and where the build is
(env B, default "build"). Each script imports it from its own directory."""
import os
import sys

B = os.environ.get("B", "build")
OPES = os.path.join(B, "opes")
_count = {"passed": 0, "failed": 0}


def check(cond, what):
    """Count one check; a failure is printed on stderr."""
    if cond:
        _count["passed"] += 1
    else:
        _count["failed"] += 1
        print("FAIL:", what, file=sys.stderr)


def finish():
    """Print the closing line and exit 1 if anything failed."""
    print("%d passed, %d failed" % (_count["passed"], _count["failed"]))
    sys.exit(1 if _count["failed"] else 0)
