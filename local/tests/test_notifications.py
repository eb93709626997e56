"""Every failure reaches a person: a scheduled trigger that fails lands, with its event and error, on the
stack's topic (its on-failure destination), as the emulator's Lambda runs asynchronous invokes."""

import json
import time

import deploy
import stack
import workflow


def inbox() -> str:
    """An SQS queue subscribed to the stack's topic, as an operator's mail would be; its URL."""
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=f"operator-inbox-{time.time_ns()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stack.client("sns").subscribe(
        TopicArn=deploy.notification_topic_arn(),
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return url


def first_message(url: str, timeout: float = 60) -> dict:
    sqs = stack.client("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            return json.loads(messages[0]["Body"])
    raise AssertionError(f"nothing reached the topic in {timeout} s")


def test_a_failing_scheduled_trigger_reaches_the_topic_with_its_event_and_error(aws):
    url = inbox()
    # A scheduled event the trigger refuses: each of Lambda's attempts fails the same way.
    event = workflow.scheduled_event(False, None)
    event["maxDeletePercent"] = 0

    # As the schedule invokes it: asynchronously, through Lambda (the emulator's endpoint), not directly.
    answer = stack.client("lambda").invoke(FunctionName="trigger", InvocationType="Event", Payload=json.dumps(event))
    assert answer["StatusCode"] == 202

    record = first_message(url)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3, "the first try and the template's 2 retries"
    assert record["requestContext"]["functionArn"].endswith(":function:trigger:$LATEST")
    assert record["requestPayload"] == event
    assert record["responsePayload"]["errorType"] == "InvalidEvent"
    assert "maxDeletePercent" in record["responsePayload"]["errorMessage"]


def test_a_trigger_that_succeeds_asynchronously_sends_nothing(aws):
    url = inbox()
    event = workflow.scheduled_event(True, None)
    stack.client("lambda").invoke(FunctionName="trigger", InvocationType="Event", Payload=json.dumps(event))
    time.sleep(5)
    assert not stack.client("sqs").receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages")
    # The run it started ends here, not in the next test's emptied emulator.
    sfn = stack.client("stepfunctions")
    arn = deploy.deploy()["snapmgmt-snapshot-mgmt"]
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        workflow.wait_for(sfn, execution["executionArn"], timeout=120)
