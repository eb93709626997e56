"""What template.yaml promises operators, checked against the code: the dashboard graphs the metrics the
functions write, and a failed run reaches the notification topic."""

import json
import pathlib
import re

import cfnlint.decode

ROOT = pathlib.Path(__file__).resolve().parents[2]


def resources():
    template, errors = cfnlint.decode.decode(ROOT / "template.yaml")
    assert not errors, errors
    return template["Resources"]


def test_the_dashboard_graphs_only_metrics_the_functions_write():
    body = resources()["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    graphed = {m[1] for w in widgets for m in w["properties"]["metrics"] if m[0] == "snapmgmt"}
    core = "".join(p.read_text() for p in (ROOT / "crates" / "core" / "src").rglob("*.rs"))
    written = set(re.findall(r'\("([A-Z][A-Za-z]+)", [^,]+, (?:crate::metrics::)?Unit::', core))
    assert graphed and graphed <= written, graphed - written
    assert 'NAMESPACE: &str = "snapmgmt"' in core


def test_a_failed_run_notifies_the_topic_and_raises_the_alarm():
    res = resources()
    rule = res["RunFailedRule"]["Properties"]
    assert set(rule["EventPattern"]["detail"]["status"]) == {"FAILED", "TIMED_OUT", "ABORTED"}
    assert rule["Targets"][0]["Arn"] == {"Ref": "NotificationTopic"}
    alarm = res["FailedRunsAlarm"]["Properties"]
    assert alarm["MetricName"] == "ExecutionsFailed" and alarm["AlarmActions"] == [{"Ref": "NotificationTopic"}]
