"""The scheduled workflow under 30 % throttling of every call (the fault proxy between the functions and the
emulator), twice with different seeds: the runs must still create and delete exactly what they should. In a
file of its own, the suite's longest: the parallel workers share the rest of test_faults.py's work."""

import pytest
import stack
from test_faults import figures, inventory, inventory_now
from test_workflow import run, target


@pytest.mark.parametrize("seed", [30, 31])
def test_under_30_percent_throttling_of_every_call_the_run_does_exactly_its_work(aws, seed):
    ec2, efs = stack.client("ec2"), stack.client("efs")
    targets = inventory(aws, ec2, efs)
    stack.set_faults([{"operation": "*", "fault": "throttle", "rate": 0.3}], seed=seed)

    summary = run()

    sent, injected = figures(f"30% throttling, seed {seed}")
    assert injected > 0
    assert summary["status"] == "SUCCEEDED", summary
    assert summary["totals"]["failedDeletes"] == 0
    for target_id, backups in targets.items():
        result = target(summary, target_id)
        assert result["created"] and all(result["created"]), result
        if not backups:
            continue  # EFS: the recovery point, in AWS Backup
        created = set(result["created"])
        assert set(result["cleanup"]["deleted"]) == backups["expired"], result
        assert inventory_now(aws, ec2, target_id) == backups["kept"] | created, target_id
