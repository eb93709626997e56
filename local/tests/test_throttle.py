"""EC2's request rate limits in the emulator (moto_ext/throttle.py): the documented token buckets, counted for
the stack's principals only, answered with RequestLimitExceeded; and a cleanup that outruns its bucket still
deletes everything it should, slowed down by its retries instead of failing."""

import pytest
import stack
from moto_ext import throttle
from test_scale import seed_sets
from test_workflow import run, target


@pytest.fixture
def buckets():
    throttle.reset()
    throttle.configure(1)
    yield throttle
    throttle.reset()


def test_a_mutating_action_bursts_to_200_then_refills_5_a_second(buckets):
    assert all(buckets.take("a", "r", "DeleteSnapshot", {}, now=0) for _ in range(200))
    assert not buckets.take("a", "r", "DeleteSnapshot", {}, now=0)
    # Each API has a bucket of its own.
    assert buckets.take("a", "r", "CreateTags", {}, now=0)
    assert [buckets.take("a", "r", "DeleteSnapshot", {}, now=1) for _ in range(6)] == [True] * 5 + [False]


def test_a_describe_with_a_filter_has_100_tokens_one_without_50(buckets):
    filtered = {"Filter.1.Name": ["tag:snapmgmt:TargetId"]}
    assert sum(buckets.take("a", "r", "DescribeSnapshots", filtered, now=0) for _ in range(120)) == 100
    assert sum(buckets.take("a", "r", "DescribeVolumes", {}, now=0) for _ in range(120)) == 50
    assert sum(buckets.take("a", "r", "DescribeVolumes", {}, now=1) for _ in range(20)) == 10
    # Another Region's budget is its own.
    assert buckets.take("a", "r2", "DescribeVolumes", {}, now=0)


def test_a_cleanup_past_its_bucket_is_slowed_not_failed_and_seeding_is_not_counted(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, mode="direct")
    seed_sets(ec2, instance, 30, 20, "old")
    seed_sets(ec2, instance, 31, 1, "young")
    # A tenth of AWS's buckets: DeleteSnapshot has 20 tokens and 0.5 a second, so 30 deletes must wait.
    stack.control("/moto-api/snapmgmt/ec2/throttle", {"scale": 0.1})
    for n in range(30):  # the test's own calls are not counted: none of these is refused
        ec2.create_tags(Resources=[instance], Tags=[{"Key": f"k{n}", "Value": "v"}])

    summary = run()

    refused = stack.control_get("/moto-api/snapmgmt/ec2/throttle")["refusals"]
    assert {r["action"] for r in refused} >= {"DeleteSnapshot"}, refused
    result = target(summary, instance)
    assert summary["status"] == "SUCCEEDED", result
    assert len(result["cleanup"]["deleted"]) == 30
