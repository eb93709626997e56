"""The emulator's Step Functions engine holds executions to AWS's quotas, so that a design that outgrows them
fails here first: each limit is tripped by a small state machine made to exceed it, and one just inside it runs.
Also Distributed Map as AWS runs it: children as executions of their own, ResultWriter files, tolerated failures."""

import json
import time

import pytest
import stack

ROLE = f"arn:aws:iam::{stack.ACCOUNT_ID}:role/limits"
KIB = 1024


@pytest.fixture(scope="module")
def endpoint(emulator_alone):
    """The emulator alone (no functions): these machines have no Lambda Tasks."""
    return emulator_alone


@pytest.fixture
def sfn(endpoint):
    stack.control("/moto-api/reset", {}, endpoint)
    return stack.client("stepfunctions", endpoint)


def run(sfn, definition: dict, execution_input: dict = None, timeout: int = 120) -> dict:
    machine = sfn.create_state_machine(
        name=f"limits-{time.time_ns()}", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input or {}))["executionArn"]
    deadline = time.monotonic() + timeout
    while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{arn} still running"
        time.sleep(0.2)
    return execution


def history_length(sfn, execution_arn: str) -> int:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return sum(len(page["events"]) for page in pages)


def catch_all(state: dict) -> dict:
    """The state with a Catch on States.ALL: terminal errors must go through it anyway, as on AWS."""
    return {**state, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]}


CAUGHT = {"Caught": {"Type": "Succeed"}}
BIG = "x" * (150 * KIB)


def test_a_state_output_over_256_kib_fails_the_execution_uncaught(sfn):
    definition = {
        "StartAt": "Big",
        "States": {
            "Big": {"Type": "Pass", "Result": BIG, "ResultPath": "$.big", "Next": "Twice"},
            "Twice": catch_all({"Type": "Pass", "Parameters": {"a.$": "$.big", "b.$": "$.big"}, "End": True}),
            **CAUGHT,
        },
    }
    execution = run(sfn, definition)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.DataLimitExceeded"), execution


def test_a_parallel_whose_branches_add_up_past_256_kib_fails(sfn):
    branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": BIG, "End": True}}}
    definition = {
        "StartAt": "Both",
        "States": {"Both": catch_all({"Type": "Parallel", "Branches": [branch, branch], "End": True}), **CAUGHT},
    }
    execution = run(sfn, definition)
    assert (execution["status"], execution["error"]) == ("FAILED", "States.DataLimitExceeded"), execution


def test_inline_map_results_past_256_kib_fail(sfn):
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": catch_all(
                {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "B",
                        "States": {"B": {"Type": "Pass", "Result": "y" * (100 * KIB), "End": True}},
                    },
                    "End": True,
                }
            ),
            **CAUGHT,
        },
    }
    execution = run(sfn, definition, {"items": [1, 2, 3]})
    assert (execution["status"], execution["error"]) == ("FAILED", "States.DataLimitExceeded"), execution
    # Two results fit: the limit is 256 KiB, not less.
    assert run(sfn, definition, {"items": [1, 2]})["status"] == "SUCCEEDED"


def test_an_execution_input_over_256_kib_is_refused(sfn):
    machine = sfn.create_state_machine(
        name="input",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=ROLE,
    )["stateMachineArn"]
    with pytest.raises(sfn.exceptions.ClientError, match="ValidationException|262144"):
        sfn.start_execution(stateMachineArn=machine, input=json.dumps({"x": "z" * (256 * KIB)}))
    sfn.start_execution(stateMachineArn=machine, input=json.dumps({"x": "z" * (255 * KIB)}))


def counting_loop(iterations: int) -> dict:
    """4 history events an iteration (a Pass and a Choice, entered and exited)."""
    return {
        "StartAt": "Count",
        "States": {
            "Count": catch_all({"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"}, "Next": "Again"}),
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericLessThan": iterations, "Next": "Count"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
            **CAUGHT,
        },
    }


def test_an_execution_past_25000_history_events_fails(sfn):
    execution = run(sfn, counting_loop(6_500), {"n": 0})
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime"), execution
    assert "25,000" in execution["cause"]
    # It ran to the limit (not short of it), and stopped there.
    assert 25_000 <= history_length(sfn, execution["executionArn"]) <= 25_010


def distributed(items_key: str, child: dict, tolerated) -> dict:
    return {
        "StartAt": "EachTarget",
        "States": {
            "EachTarget": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": "limits", "Key": items_key},
                },
                "ItemSelector": {"item.$": "$$.Map.Item.Value", "n": 0},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    **child,
                },
                "MaxConcurrency": 4,
                "ToleratedFailurePercentage": tolerated,
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "limits", "Prefix": "results"},
                },
                "ResultSelector": {"manifest.$": "$.ResultWriterDetails.Key"},
                "End": True,
            }
        },
    }


def read_json(s3, key: str):
    return json.loads(s3.get_object(Bucket="limits", Key=key)["Body"].read())


def test_distributed_map_children_are_executions_with_their_own_history_and_results(sfn, endpoint):
    s3 = stack.client("s3", endpoint)
    s3.create_bucket(Bucket="limits")
    # Item 3 loops past 25,000 events in its own child; the others stay small. The parent holds none of it.
    items = [{"id": i, "loops": 6_500 if i == 3 else 2} for i in range(6)]
    s3.put_object(Bucket="limits", Key="items.json", Body=json.dumps(items).encode())
    child = counting_loop(0)
    child["States"]["Again"]["Choices"][0] = {"Variable": "$.n", "NumericLessThanPath": "$.item.loops", "Next": "Count"}
    child["States"]["Count"]["Parameters"]["item.$"] = "$.item"
    execution = run(sfn, distributed("items.json", child, 100))

    assert execution["status"] == "SUCCEEDED", execution
    assert history_length(sfn, execution["executionArn"]) < 20
    manifest = read_json(s3, json.loads(execution["output"])["manifest"])
    [succeeded] = manifest["ResultFiles"]["SUCCEEDED"]
    [failed] = manifest["ResultFiles"]["FAILED"]
    assert succeeded["Key"].startswith("results/") and succeeded["Key"].endswith("/SUCCEEDED_0.json")
    ok = read_json(s3, succeeded["Key"])
    assert sorted(json.loads(e["Input"])["item"]["id"] for e in ok) == [0, 1, 2, 4, 5]
    assert all(json.loads(e["Output"])["n"] == 2 for e in ok)
    [bad] = read_json(s3, failed["Key"])
    assert (json.loads(bad["Input"])["item"]["id"], bad["Status"], bad["Error"]) == (3, "FAILED", "States.Runtime")

    [map_run] = sfn.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["itemCounts"]
    assert (counts["succeeded"], counts["failed"], counts["total"]) == (5, 1, 6)
    children = stack.control_get(f"/moto-api/snapmgmt/sfn/map-runs?executionArn={execution['executionArn']}", endpoint)
    events = sorted(c["historyEvents"] for c in children["mapRuns"][map_run["mapRunArn"]])
    assert events[-1] >= 25_000 and events[0] < 20


def test_a_distributed_map_fails_past_its_tolerated_failures(sfn, endpoint):
    s3 = stack.client("s3", endpoint)
    s3.create_bucket(Bucket="limits")
    s3.put_object(Bucket="limits", Key="items.json", Body=json.dumps([{"fail": i == 0} for i in range(4)]).encode())
    child = {
        "StartAt": "Decide",
        "States": {
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.item.fail", "BooleanEquals": True, "Next": "Fail"}],
                "Default": "Done",
            },
            "Fail": {"Type": "Fail", "Error": "TargetFailed", "Cause": "on purpose"},
            "Done": {"Type": "Succeed"},
        },
    }
    strict = run(sfn, distributed("items.json", child, 0))
    assert (strict["status"], strict["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold"), strict
    tolerant = run(sfn, distributed("items.json", child, 25))
    assert tolerant["status"] == "SUCCEEDED", tolerant


def test_describe_instances_pages_by_instance_as_aws_does(endpoint):
    """MaxResults counts instances, not reservations: one launch of 7 comes back in pages of 5 and 2."""
    stack.control("/moto-api/reset", {}, endpoint)
    ec2 = stack.client("ec2", endpoint)
    image = ec2.describe_images()["Images"][0]["ImageId"]
    launched = {i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=7, MaxCount=7)["Instances"]}
    pages = list(ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5}))
    sizes = [sum(len(r["Instances"]) for r in page["Reservations"]) for page in pages]
    assert sizes == [5, 2]
    assert {i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]} == launched
