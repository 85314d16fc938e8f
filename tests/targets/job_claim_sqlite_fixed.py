"""job_claim_sqlite_fixed.py: job_claim_sqlite.py's fixed twin (the claim is one UPDATE ...
RETURNING).  Must pass every run in every mode."""
import os
import runpy
import sys

sys.argv = [os.path.join(os.path.dirname(os.path.abspath(__file__)), "job_claim_sqlite.py"),
            "--fixed"]
runpy.run_path(sys.argv[0], run_name="__main__")
