"""router_history_fixed.py: router_history.py's fixed twin (its append holds a threading.Lock).
Must pass every run in every mode."""
import os
import runpy
import sys

os.environ["WEDGE_FIXED"] = "1"
sys.argv[0] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "router_history.py")
runpy.run_path(sys.argv[0], run_name="__main__")
