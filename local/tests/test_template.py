"""What template.yaml promises operators, checked against the code: the dashboard graphs the metrics the
functions write, and a failed run reaches the notification topic."""

import json
import pathlib
import re

import cfnlint.decode

import docs

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


def statements(resource: dict) -> list:
    """The inline statements of a SAM function's or state machine's policies."""
    return [s for p in resource["Properties"].get("Policies", []) if "Statement" in p for s in p["Statement"]]


def actions(statement: dict) -> list:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def resource_text(statement: dict) -> str:
    return json.dumps(statement["Resource"])


def test_the_workflow_may_touch_only_its_own_child_executions_and_the_buckets_prefixes():
    res = resources()
    machine = statements(res["SnapshotMgmtStateMachine"])
    for statement in machine:
        for action in actions(statement):
            if action.startswith("states:"):
                assert "${AWS::StackName}-snapshot-mgmt" in resource_text(statement), statement
                assert action in {"states:StartExecution", "states:DescribeExecution", "states:StopExecution"}
            if action.startswith("s3:"):
                prefix = re.search(r"InventoryBucket\.Arn\}/(\w+)/\*", resource_text(statement))
                assert prefix, statement
                allowed = {
                    "inventory": {"s3:GetObject"},
                    "results": {
                        "s3:PutObject",
                        "s3:GetObject",
                        "s3:ListMultipartUploadParts",
                        "s3:AbortMultipartUpload",
                    },
                }
                assert action in allowed[prefix.group(1)], (action, prefix.group(1))
    subs = res["SnapshotMgmtStateMachine"]["Properties"]["DefinitionSubstitutions"]
    assert subs["InventoryBucket"] == {"Ref": "InventoryBucket"}


def test_the_trigger_writes_only_inventories_reads_the_ledger_and_the_report_reads_results_writes_reports():
    res = resources()
    s3_grants = {
        name: {(a, resource_text(s)) for s in statements(res[name]) for a in actions(s) if a.startswith("s3:")}
        for name in ("TriggerFunction", "ReportFunction")
    }
    assert s3_grants["TriggerFunction"] == {
        ("s3:PutObject", '{"Fn::Sub": "${InventoryBucket.Arn}/inventory/*"}'),
        # When each orphan was last a target (its grace counts from then), and a 404 when there is no ledger yet.
        ("s3:GetObject", '{"Fn::Sub": "${InventoryBucket.Arn}/state/last-backups.json"}'),
        ("s3:ListBucket", '{"Fn::GetAtt": ["InventoryBucket", "Arn"]}'),
    }
    assert s3_grants["ReportFunction"] == {
        (
            "s3:GetObject",
            '[{"Fn::Sub": "${InventoryBucket.Arn}/results/*"}, {"Fn::Sub": "${InventoryBucket.Arn}/inventory/*"}]',
        ),
        ("s3:PutObject", '{"Fn::Sub": "${InventoryBucket.Arn}/reports/*"}'),
        # The ledger of each target's last completed backup, and a 404 (not a 403) when there is none yet.
        ("s3:GetObject", '{"Fn::Sub": "${InventoryBucket.Arn}/state/*"}'),
        ("s3:PutObject", '{"Fn::Sub": "${InventoryBucket.Arn}/state/*"}'),
        ("s3:ListBucket", '{"Fn::GetAtt": ["InventoryBucket", "Arn"]}'),
    }


def test_the_bucket_is_private_encrypted_tls_only_expiring_and_kept_on_stack_delete():
    res = resources()
    bucket = res["InventoryBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    expiring = {r["Prefix"] for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r}
    assert expiring == {"inventory/", "results/", "reports/"}
    [tls] = res["InventoryBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_audit_trail_outlives_the_stack():
    res = resources()
    log_groups = {name: r for name, r in res.items() if r["Type"] == "AWS::Logs::LogGroup"}
    functions = [name for name, r in res.items() if r["Type"] == "AWS::Serverless::Function"]
    assert len(log_groups) == len(functions) + 1, "one per function, and the state machine's"
    # `sam delete` keeps the logs and the vault: the record of what ran, and the backups themselves.
    for name, resource in [*log_groups.items(), ("BackupVault", res["BackupVault"])]:
        assert resource.get("DeletionPolicy") == resource.get("UpdateReplacePolicy") == "Retain", name
    # The cleanup's log is the only full record of what was deleted: a year at least.
    assert log_groups["CleanupLogGroup"]["Properties"]["RetentionInDays"] == {"Ref": "CleanupLogRetentionDays"}
    template, _ = cfnlint.decode.decode(ROOT / "template.yaml")
    parameter = template["Parameters"]["CleanupLogRetentionDays"]
    assert min(parameter["AllowedValues"]) >= 365 and parameter["Default"] >= 365
    # The full report of each run is kept in the bucket as long as the log that lists its deletions.
    assert template["Parameters"]["RunRecordsExpireDays"]["Default"] >= parameter["Default"]


def test_the_automation_runs_commands_on_targets_only_and_aws_backup_acts_for_this_account_only():
    res = resources()
    statements = res["AutomationRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    [on_instances] = [s for s in statements if s.get("Sid") == "RunCommandsOnTargetsOnly"]
    assert on_instances["Action"] == "ssm:SendCommand"
    condition = on_instances["Condition"]["Fn::If"]
    assert condition[0] == "TargetTagKeyIsResourceType"
    assert condition[1] == {"StringEquals": {"ssm:resourceTag/ResourceType": {"Ref": "TargetTagValue"}}}
    documents = [s for s in statements if s.get("Sid") == "RunTheDocumentsTheStepsUse"][0]["Resource"]
    assert len(documents) == 3, "only the documents the steps run"
    backup_role = res["BackupRole"]["Properties"]
    [trust] = backup_role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "ManagedPolicyArns" not in backup_role, "EFS only, not every service AWS Backup knows"
    statements = [s for p in backup_role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    # Conditional statements ({"Fn::If": [condition, statement, AWS::NoValue]}): the statement they add.
    statements = [s["Fn::If"][1] if "Fn::If" in s else s for s in statements]
    actions = [s["Action"] for s in statements]
    actions = [a for listed in actions for a in ([listed] if isinstance(listed, str) else listed)]
    # And, with a vault in CopyRegion, the copy jobs into it.
    assert all(a.startswith("elasticfilesystem:") or a == "backup:CopyIntoBackupVault" for a in actions), actions


def test_a_failing_trigger_and_a_night_without_a_run_reach_the_topic():
    res = resources()
    # The schedule invokes the trigger asynchronously: a failure lands on the topic, with its event.
    destination = res["TriggerOnFailure"]["Properties"]
    assert destination["FunctionName"] == {"Ref": "TriggerFunction"}
    assert destination["DestinationConfig"]["OnFailure"]["Destination"] == {"Ref": "NotificationTopic"}
    [publish] = [s for s in statements(res["TriggerFunction"]) if s.get("Sid") == "ReportAFailedScheduledInvoke"]
    assert publish["Action"] == "sns:Publish" and publish["Resource"] == {"Ref": "NotificationTopic"}
    errors = res["TriggerErrorsAlarm"]["Properties"]
    assert errors["MetricName"] == "Errors" and errors["Dimensions"][0]["Value"] == {"Ref": "TriggerFunction"}
    assert errors["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    # No successful run in the schedule's period plus a margin: missing data is a night without a run.
    no_run = res["NoSuccessfulRunAlarm"]["Properties"]
    assert no_run["MetricName"] == "ExecutionsSucceeded" and no_run["ComparisonOperator"] == "LessThanThreshold"
    assert no_run["TreatMissingData"] == "breaching"
    assert no_run["EvaluationPeriods"] == no_run["DatapointsToAlarm"] == {"Ref": "NoRunAlarmHours"}
    assert no_run["Period"] * 168 <= 604_800, "CloudWatch evaluates at most 7 days"
    assert no_run["AlarmActions"] == [{"Ref": "NotificationTopic"}]


def test_a_resource_without_a_recent_backup_reaches_the_topic():
    res = resources()
    stale = res["StaleBackupsAlarm"]["Properties"]
    assert (stale["Namespace"], stale["MetricName"]) == ("snapmgmt", "TargetsWithoutRecentBackup")
    assert stale["Dimensions"] == [{"Name": "Kind", "Value": "run"}]
    assert stale["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and stale["Threshold"] == 1
    assert stale["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    report = res["ReportFunction"]["Properties"]["Environment"]["Variables"]
    assert report["STALE_AFTER_HOURS"] == {"Ref": "StaleAfterHours"}
    core = (ROOT / "crates" / "core" / "src" / "report.rs").read_text()
    assert '("TargetsWithoutRecentBackup",' in core and 'emit("run", "report"' in core


def test_failed_deletes_and_a_failed_orphan_search_reach_the_topic():
    res = resources()
    core = (ROOT / "crates" / "core" / "src" / "report.rs").read_text()
    for alarm, metric in (
        ("FailedDeletesAlarm", "DeleteFailures"),
        ("OrphanSearchFailedAlarm", "OrphanSearchFailures"),
        ("TargetsDisappearedAlarm", "TargetsDisappeared"),
    ):
        properties = res[alarm]["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == ("snapmgmt", metric)
        assert properties["Dimensions"] == [{"Name": "Kind", "Value": "run"}]
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and properties["Threshold"] == 1
        assert properties["AlarmActions"] == [{"Ref": "NotificationTopic"}]
        assert f'("{metric}",' in core, f"the report emits {metric}"


def test_a_night_with_far_fewer_targets_alarms_at_the_stacks_share():
    properties = resources()["TargetCountDropAlarm"]["Properties"]
    assert (properties["Namespace"], properties["MetricName"]) == ("snapmgmt", "TargetDropPercent")
    assert properties["Dimensions"] == [{"Name": "Kind", "Value": "run"}]
    assert properties["Threshold"] == {"Ref": "TargetDropAlarmPercent"}
    assert properties["ComparisonOperator"] == "GreaterThanThreshold"
    assert properties["AlarmActions"] == [{"Ref": "NotificationTopic"}]
    assert '("TargetDropPercent",' in (ROOT / "crates" / "core" / "src" / "report.rs").read_text()


def test_the_safety_nets_are_off_by_default_and_cover_only_ours():
    res = resources()
    template, _ = cfnlint.decode.decode(ROOT / "template.yaml")
    parameters = template["Parameters"]
    assert parameters["RecycleBinDays"]["Default"] == 0 and parameters["EfsVaultLockDays"]["Default"] == 0
    # Recycle Bin: our deleted EBS snapshots only, kept the days asked.
    rule = res["SnapshotRecycleBinRule"]
    assert rule["Condition"] == "HasRecycleBin"
    assert rule["Properties"]["ResourceType"] == "EBS_SNAPSHOT"
    assert rule["Properties"]["ResourceTags"] == [{"ResourceTagKey": "ManagedBy", "ResourceTagValue": "snapmgmt"}]
    assert rule["Properties"]["RetentionPeriod"]["RetentionPeriodValue"] == {"Ref": "RecycleBinDays"}
    # Vault Lock in governance mode: a minimum retention, and no ChangeableForDays (that would be compliance).
    lock = res["BackupVault"]["Properties"]["LockConfiguration"]["Fn::If"]
    assert lock[0] == "HasVaultLock" and lock[1] == {"MinRetentionDays": {"Ref": "EfsVaultLockDays"}}
    assert lock[2] == {"Ref": "AWS::NoValue"}
    # efs-backup knows the lock, so a lifecycle too short for it fails at start naming the setting.
    variables = res["EfsBackupFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["BACKUP_VAULT_LOCK_DAYS"] == {"Ref": "EfsVaultLockDays"}


def test_adopting_the_original_samples_backups_is_opt_in_and_deletes_only_what_it_made():
    res = resources()
    template, _ = cfnlint.decode.decode(ROOT / "template.yaml")
    assert template["Parameters"]["AdoptOriginalSampleBackups"]["Default"] == "false"
    variables = res["CleanupFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["ADOPT_ORIGINAL_SAMPLE"] == {"Ref": "AdoptOriginalSampleBackups"}
    [adopt] = [s["Fn::If"] for s in res["CleanupFunction"]["Properties"]["Policies"][0]["Statement"] if "Fn::If" in s]
    condition, statement, otherwise = adopt
    assert condition == "AdoptsOriginalSample" and otherwise == {"Ref": "AWS::NoValue"}
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/CreatedBy": "Snapshot-Automation-Sample"}}
    assert sorted(statement["Action"]) == ["ec2:DeleteSnapshot", "fsx:DeleteBackup"]
    core = (ROOT / "crates" / "core" / "src" / "adopt.rs").read_text()
    assert 'CREATED_BY_SAMPLE: &str = "Snapshot-Automation-Sample"' in core


def parameters():
    template, errors = cfnlint.decode.decode(ROOT / "template.yaml")
    assert not errors, errors
    return template["Parameters"]


def test_the_delete_guards_description_says_an_event_only_lowers_it():
    # The cleanup function lets an event's maxDeletePercent only lower the stack's limit (config.rs).
    description = " ".join(parameters()["MaxDeletePercent"]["Description"].split())
    assert "lower it for one run, never raise it" in description


def test_the_retention_parameters_take_the_form_every_service_accepts_and_the_comma_form():
    for name in ("RetentionTiers",):
        pattern = re.compile(parameters()[name]["AllowedPattern"])
        for accepted in ("", "daily=7 weekly=4 monthly=12", "daily=7,weekly=4"):
            assert pattern.fullmatch(accepted), (name, accepted)
        assert not pattern.fullmatch("daily=7;weekly=4")


def test_the_readmes_console_test_puts_every_inventory_file_the_sample_input_names():
    sample = json.loads((ROOT / "events" / "state-machines" / "snapshot-mgmt.json").read_text())
    files = {pathlib.PurePosixPath(key).stem for name, key in sample["inventory"].items() if name != "bucket"}
    readme = docs.command_pages_text()
    [listed] = re.findall(r"inventory/snapmgmt-sample/\{([a-z0-9,]+)\}\.json", readme)
    assert set(listed.split(",")) == files


def test_a_failed_or_stale_verification_alarms_and_a_failed_verify_run_reaches_the_topic():
    res = resources()
    run = (ROOT / "crates" / "core" / "src" / "verify" / "run.rs").read_text()
    assert 'emit("verify", "record",' in run, "the verify run's metrics are of Kind verify"
    for alarm, metric in (
        ("VerificationFailedAlarm", "VerificationsFailed"),
        ("VerifyStaleAlarm", "TargetsNotVerifiedRecently"),
    ):
        properties = res[alarm]["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == ("snapmgmt", metric)
        assert properties["Dimensions"] == [{"Name": "Kind", "Value": "verify"}]
        assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold" and properties["Threshold"] == 1
        assert properties["AlarmActions"] == [{"Ref": "NotificationTopic"}]
        assert f'("{metric}",' in run, f"the verify run emits {metric}"
    machines = res["RunFailedRule"]["Properties"]["EventPattern"]["detail"]["stateMachineArn"]
    assert {"Ref": "VerifyStateMachine"} in machines
    # Weekly unless VerifySchedule is empty, which disables the schedule.
    weekly = res["VerifyScheduleRule"]["Properties"]
    assert weekly["State"] == {"Fn::If": ["HasVerifySchedule", "ENABLED", "DISABLED"]}
    assert weekly["Targets"][0]["Arn"] == {"Ref": "VerifyStateMachine"} and weekly["Targets"][0]["Input"] == "{}"
    [start] = res["VerifyScheduleRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert (start["Action"], start["Resource"]) == ("states:StartExecution", {"Ref": "VerifyStateMachine"})
    assert parameters()["VerifySchedule"]["Default"].startswith("cron(")


def test_the_verify_role_changes_no_backup_and_deletes_only_this_stacks_restore_test_volumes():
    # A statement under a condition (the validation hook's) counts as granted.
    given = [s["Fn::If"][1] if "Fn::If" in s else s for s in statements(resources()["VerifyFunction"])]
    granted = [(a, s) for s in given for a in actions(s)]
    changing = [(a, s) for a, s in granted if not a.split(":")[1].startswith(("Describe", "List", "Get"))]
    stack_tag = {"aws:ResourceTag/snapmgmt:Stack": {"Fn::Sub": "${AWS::StackName}@${AWS::Region}"}}
    restore_tests = {"ec2:CreateVolume", "ec2:CreateTags", "ec2:DeleteVolume"}
    restore_tests |= {"elasticfilesystem:TagResource", "elasticfilesystem:DeleteFileSystem"}
    restore_tests |= {"fsx:CreateFileSystemFromBackup", "fsx:CreateVolumeFromBackup", "fsx:TagResource"}
    restore_tests |= {"fsx:DeleteFileSystem", "fsx:DeleteVolume"}
    for action, statement in changing:
        if action.startswith("s3:"):
            assert "verif" in resource_text(statement), statement
            continue
        if action == "lambda:InvokeFunction":
            # The operator's validation hook only.
            assert statement["Resource"] == {"Ref": "VerifyValidationFunctionArn"}, statement
            continue
        if action.startswith("ds:"):
            # A restored Windows file system joins its source's directory: no backup is in a directory.
            assert "directory/*" in resource_text(statement), statement
            continue
        if action == "backup:StartRestoreJob":
            # Restores make new resources (the file systems below); no backup is changed by one.
            assert "recovery-point:*" in resource_text(statement), statement
            continue
        assert action in restore_tests | {"iam:PassRole"}, action
        assert statement.get("Condition"), f"{action} unconditioned"
    for deleting in (
        "ec2:DeleteVolume",
        "elasticfilesystem:DeleteFileSystem",
        "fsx:DeleteFileSystem",
        "fsx:DeleteVolume",
    ):
        [delete] = [s for a, s in changing if a == deleting]
        assert delete["Condition"]["StringEquals"] == stack_tag, deleting
        assert delete["Condition"]["StringLike"] == {"aws:ResourceTag/snapmgmt:RestoreTest": "?*"}, deleting
    # A file system is marked as this stack's restore test only when no stack has marked it.
    [mark] = [s for a, s in changing if a == "elasticfilesystem:TagResource"]
    assert mark["Condition"]["Null"] == {"aws:ResourceTag/snapmgmt:Stack": "true"}
    assert mark["Condition"]["ForAllValues:StringEquals"] == {"aws:TagKeys": ["snapmgmt:RestoreTest", "snapmgmt:Stack"]}
    core = (ROOT / "crates" / "core" / "src" / "tags.rs").read_text()
    assert 'RESTORE_TEST_KEY: &str = "snapmgmt:RestoreTest"' in core


def test_every_roles_policies_fit_iams_size_quotas_with_every_option_on(monkeypatch):
    """IAM refuses a role whose inline policies total over 10,240 characters, or a managed policy over 6,144
    (whitespace not counted): a deploy with every option that adds a grant must still be accepted."""
    import iam_template

    every_option = {
        "CopyRegion": "us-west-2",
        "CopyBackupVaultName": "snapmgmt-copies-of-a-long-vault-name",
        "CopyKmsKeyId": "arn:aws:kms:us-west-2:123456789012:key/0123abcd-4567-89ab-cdef-0123456789ab",
        "VerifyValidationFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:" + "v" * 64,
        "VerifyCopySubnetIds": "subnet-0123456789abcdef0,subnet-0123456789abcdef1",
        "VerifyCopySvmId": "svm-0123456789abcdef0",
        "NotificationEmail": "ops@example.com",
        "AdoptOriginalSampleBackups": "true",
    }
    monkeypatch.setenv("SNAPMGMT_STACK_PARAMETERS", json.dumps(every_option))
    managed = {name for name, r in resources().items() if r["Type"] == "AWS::IAM::ManagedPolicy"}
    for role in iam_template.principals()["roles"].values():
        documents = {}
        for s in role["statements"]:
            documents.setdefault(s["policy"], []).append(s["statement"])
        size = {
            name: len(json.dumps({"Version": "2012-10-17", "Statement": listed}, separators=(",", ":")))
            for name, listed in documents.items()
        }
        for name in size.keys() & managed:
            assert size[name] <= 6_144, f"{role['logicalId']}: the managed policy {name} is {size[name]} characters"
        inline = sum(n for name, n in size.items() if name not in managed)
        assert inline <= 10_240, f"{role['logicalId']}: its inline policies total {inline} characters"
