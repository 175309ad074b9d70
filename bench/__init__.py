"""`radagent bench`: performance measured against a baseline run side by side."""
