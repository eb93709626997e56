"""Several stacks in one account: each lists, judges and deletes only the backups it made (`snapmgmt:Stack`), and
the stack's IAM refuses the rest. A backup from before backups named their stack is claimed by the stack that
backs its resource up now, and is no stack's orphan."""

import json

import botocore.exceptions
import conftest
import pytest
import stack
from test_iam import as_function
from test_workflow import kept, run, target

# Another stack: the same name in the copy Region, copying into this one (the usual two-Region setup).
OTHER_STACK = "snapmgmt@us-west-2"


def test_another_stacks_backups_of_a_target_are_kept_and_an_orphan_here_is_only_this_stacks(aws):
    fsx, ec2 = aws, stack.client("ec2")
    fs = stack.create_file_system(fsx)
    ours = stack.create_backup(fsx, fs, 30, ours=True)
    unstamped = stack.create_backup(fsx, fs, 25, ours=True, stack_id=None)
    theirs = stack.create_backup(fsx, fs, 30, ours=True, stack_id=OTHER_STACK)
    # Young ones, so that the two expired ones are within the delete guard's half.
    young = [stack.create_backup(fsx, fs, age, ours=True) for age in (1, 2)]
    gone = stack.create_file_system(fsx, tagged=False)
    their_orphan = stack.create_backup(fsx, gone, 40, ours=True, stack_id=OTHER_STACK)
    unstamped_orphan = stack.create_backup(fsx, gone, 40, ours=True, stack_id=None)
    untagged_instance = stack.create_instance(ec2, tagged=False)
    their_snapshot = stack.create_snapshot(ec2, untagged_instance, 40, ours=True, stack_id=OTHER_STACK)

    summary = run()

    assert summary["status"] == "SUCCEEDED", json.dumps(summary)[:4000]
    result = target(summary, fs)
    # This stack's, and the one from before backups named their stack (claimed: the resource is this stack's
    # target), are judged; the other stack's is left to it.
    assert set(result["cleanup"]["deleted"]) == {ours, unstamped}, result["cleanup"]
    assert kept(result)[theirs] == "OtherStack"
    assert {kept(result)[y] for y in young} == {"TooYoung"}
    # Neither the other stack's backups of a resource that is no target here, nor the ones no stack can claim,
    # make an orphan of this stack's.
    assert {o["targetId"] for o in summary["orphans"]}.isdisjoint({gone, untagged_instance}), summary["orphans"]
    left = {b["BackupId"] for b in fsx.describe_backups()["Backups"]}
    assert {theirs, their_orphan, unstamped_orphan} <= left
    assert their_snapshot in {s["SnapshotId"] for s in stack.snapshots(ec2, untagged_instance)}


def test_the_cleanup_role_may_not_delete_another_stacks_backup(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2)
    theirs = stack.create_snapshot(ec2, instance, 90, ours=True, stack_id=OTHER_STACK)
    unstamped = stack.create_snapshot(ec2, instance, 90, ours=True, stack_id=None)
    resource = f"arn:aws:ec2:us-east-1::snapshot/{theirs}"
    conftest.PROVOKED_DENIALS.add(("ec2:DeleteSnapshot", resource))

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        as_function("ec2", "cleanup").delete_snapshot(SnapshotId=theirs)

    assert refused.value.response["Error"]["Code"] == "UnauthorizedOperation"
    # One from before backups named their stack stays deletable: the stack that backs its instance up claims it.
    as_function("ec2", "cleanup").delete_snapshot(SnapshotId=unstamped)
    assert {s["SnapshotId"] for s in stack.snapshots(ec2, instance)} == {theirs}
