#!/usr/bin/env python3
"""Previews the scheduled run: what it would create, delete, and keep (and why), changing nothing.

Runs the deployed workflow as a dry run (the trigger invoked with "dryRun": true): every function reads
the inventory exactly as a real run does and applies the same retention rule and delete guard, but none
creates or deletes anything. A target the delete guard would refuse shows as failed, with the counts.

Works against whatever the AWS SDK is pointed at, like local/workflow.py (same options, without --dry-run).
"""

import sys

import workflow

if __name__ == "__main__":
    if "--dry-run" not in sys.argv:
        sys.argv.append("--dry-run")
    sys.exit(workflow.main())
