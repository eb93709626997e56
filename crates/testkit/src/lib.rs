//! Test support: the local AWS emulator (moto server with our extension, from `local/`), SDK clients
//! pointed at it, and helpers that seed it through the real SDK.
//!
//! Each test binary starts one emulator on a free port of 127.0.0.1 and shares it; tests stay apart by
//! creating their own resources. The emulator exits when the test process does (its stdin closes).

pub mod fault_proxy;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_fsx::types::{CreateFileSystemWindowsConfiguration, FileSystemType, Tag};
use serde_json::Value;

pub use aws_sdk_backup;
pub use aws_sdk_ec2;
pub use aws_sdk_efs;
pub use aws_sdk_fsx;
pub use aws_sdk_sfn;
pub use aws_sdk_ssm;

/// The account moto uses by default.
pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

struct Emulator {
    endpoint: String,
    // Held so that the pipe to the emulator's stdin stays open for the life of the test process.
    _child: Child,
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The endpoint of this test process's emulator, started on first use.
pub fn endpoint() -> &'static str {
    static EMULATOR: OnceLock<Emulator> = OnceLock::new();
    &EMULATOR.get_or_init(start_emulator).endpoint
}

fn start_emulator() -> Emulator {
    let root = workspace_root();
    let python =
        std::env::var_os("SNAPMGMT_PYTHON").map(PathBuf::from).unwrap_or_else(|| root.join("local/.venv/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: run `make setup` (or the README's test command) to install the emulator",
        python.display()
    );
    let mut child = Command::new(&python)
        .arg(root.join("local/emulator.py"))
        .arg("--exit-with-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().expect("emulator stdout"))
        .read_line(&mut first_line)
        .expect("read the emulator's endpoint");
    let endpoint = first_line.trim().to_string();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "the emulator did not start: {endpoint:?}");
    Emulator { endpoint, _child: child }
}

/// An SDK configuration pointed at the emulator, with the retry settings of the functions' steady calls.
pub async fn sdk_config() -> SdkConfig {
    sdk_config_at(endpoint(), snapmgmt_core::aws::CallPattern::Steady).await
}

/// An SDK configuration pointed at `endpoint` (the emulator, or a fault proxy before it), with the retry
/// and timeout settings of a call pattern, as a function of that pattern has them.
pub async fn sdk_config_at(endpoint: &str, pattern: snapmgmt_core::aws::CallPattern) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_fsx::config::Credentials::new("testing", "testing", None, None, "testkit"))
        .retry_config(pattern.retry_config())
        .timeout_config(pattern.timeout_config())
        .load()
        .await
}

/// A fault-injecting proxy in front of this process's emulator, with no rules yet: each test its own.
pub fn fault_proxy() -> fault_proxy::FaultProxy {
    fault_proxy::FaultProxy::start(endpoint())
}

pub async fn fsx_client() -> aws_sdk_fsx::Client {
    aws_sdk_fsx::Client::new(&sdk_config().await)
}

pub async fn ec2_client() -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&sdk_config().await)
}

/// The Region the tests copy to.
pub const COPY_REGION: &str = "us-west-2";

/// The tests' SDK configuration in the copy Region.
async fn copy_region_config() -> SdkConfig {
    snapmgmt_core::aws::config_in(&sdk_config().await, COPY_REGION)
}

/// The copy Region's clients, as the trigger and cleanup hold them.
pub async fn copy_region_clients() -> snapmgmt_core::copy::RegionClients {
    snapmgmt_core::copy::RegionClients::new(&sdk_config().await, COPY_REGION)
}

/// An EC2 client of the copy Region.
pub async fn copy_ec2_client() -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&copy_region_config().await)
}

/// An FSx client of the copy Region.
pub async fn copy_fsx_client() -> aws_sdk_fsx::Client {
    aws_sdk_fsx::Client::new(&copy_region_config().await)
}

/// An AWS Backup client of the copy Region.
pub async fn copy_backup_client() -> aws_sdk_backup::Client {
    aws_sdk_backup::Client::new(&copy_region_config().await)
}

pub async fn efs_client() -> aws_sdk_efs::Client {
    aws_sdk_efs::Client::new(&sdk_config().await)
}

pub async fn backup_client() -> aws_sdk_backup::Client {
    aws_sdk_backup::Client::new(&sdk_config().await)
}

pub async fn ssm_client() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config().await)
}

pub async fn ebs_client() -> snapmgmt_core::aws::aws_sdk_ebs::Client {
    snapmgmt_core::aws::aws_sdk_ebs::Client::new(&sdk_config().await)
}

pub async fn s3_client() -> snapmgmt_core::aws::aws_sdk_s3::Client {
    snapmgmt_core::aws::s3::client(&sdk_config().await)
}

/// Creates a bucket of this test's own; returns its name.
pub async fn create_bucket() -> String {
    let name = unique("snapmgmt-test").to_lowercase();
    s3_client().await.create_bucket().bucket(&name).send().await.expect("create bucket");
    name
}

/// Reads an object as JSON.
pub async fn read_json(bucket: &str, key: &str) -> Value {
    let bytes = snapmgmt_core::aws::s3::get(&s3_client().await, bucket, key).await.expect("read object");
    serde_json::from_slice(&bytes).expect("a JSON object")
}

pub async fn sfn_client() -> aws_sdk_sfn::Client {
    aws_sdk_sfn::Client::new(&sdk_config().await)
}

/// The target tag of the original sample.
pub fn target_tag() -> (&'static str, &'static str) {
    ("ResourceType", "SnapshotMgmtTarget")
}

/// A list of tags to send, or none: FSx refuses an empty `Tags` list (at least one member, as its API
/// reference says), so a resource without tags is created without the member.
fn non_empty<T>(tags: Vec<T>) -> Option<Vec<T>> {
    (!tags.is_empty()).then_some(tags)
}

/// Creates a Windows file system with these tags; returns its id.
pub async fn create_windows_file_system(fsx: &aws_sdk_fsx::Client, tags: &[(&str, &str)]) -> String {
    create_file_system(fsx, FileSystemType::Windows, tags).await
}

/// Creates a file system of any type with these tags; returns its id.
pub async fn create_file_system(fsx: &aws_sdk_fsx::Client, kind: FileSystemType, tags: &[(&str, &str)]) -> String {
    let mut request = fsx
        .create_file_system()
        .file_system_type(kind.clone())
        .storage_capacity(32)
        .subnet_ids("subnet-0123456789abcdef0")
        .set_tags(non_empty(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()));
    if kind == FileSystemType::Windows {
        request = request
            .windows_configuration(CreateFileSystemWindowsConfiguration::builder().throughput_capacity(8).build());
    }
    let out = request.send().await.expect("create file system");
    out.file_system.and_then(|f| f.file_system_id).expect("file system id")
}

/// Creates an ONTAP file system (tagged `fs_tags`) with a storage virtual machine and one read-write
/// volume tagged `volume_tags`; returns the file system's and the volume's ids.
pub async fn create_ontap_volume(
    fsx: &aws_sdk_fsx::Client,
    fs_tags: &[(&str, &str)],
    volume_tags: &[(&str, &str)],
) -> (String, String) {
    let fs = create_file_system(fsx, FileSystemType::Ontap, fs_tags).await;
    let svm = fsx
        .create_storage_virtual_machine()
        .file_system_id(&fs)
        .name("svm1")
        .send()
        .await
        .expect("create storage virtual machine")
        .storage_virtual_machine
        .and_then(|s| s.storage_virtual_machine_id)
        .expect("svm id");
    let volume = add_ontap_volume(fsx, &svm, volume_tags).await;
    (fs, volume)
}

/// Adds a read-write volume tagged `tags` to a storage virtual machine; returns its id.
pub async fn add_ontap_volume(fsx: &aws_sdk_fsx::Client, svm_id: &str, tags: &[(&str, &str)]) -> String {
    use aws_sdk_fsx::types::{CreateOntapVolumeConfiguration, VolumeType};
    let config =
        CreateOntapVolumeConfiguration::builder().storage_virtual_machine_id(svm_id).size_in_bytes(1 << 30).build();
    fsx.create_volume()
        .volume_type(VolumeType::Ontap)
        .name(unique("vol").replace('-', "_"))
        .ontap_configuration(config)
        .set_tags(non_empty(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()))
        .send()
        .await
        .expect("create volume")
        .volume
        .and_then(|v| v.volume_id)
        .expect("volume id")
}

/// Creates a backup (of a file system, or of an ONTAP volume by its `fsvol-` id) through FSx and sets its age and state through the emulator's control route;
/// returns its id.
pub async fn create_backup(
    fsx: &aws_sdk_fsx::Client,
    file_system_id: &str,
    tags: &[(&str, &str)],
    age_days: i64,
) -> String {
    // An ONTAP volume is backed up by its own id.
    let request = if file_system_id.starts_with("fsvol-") {
        fsx.create_backup().volume_id(file_system_id)
    } else {
        fsx.create_backup().file_system_id(file_system_id)
    };
    let out = request
        .set_tags(non_empty(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()))
        .send()
        .await
        .expect("create backup");
    let id = out.backup.and_then(|b| b.backup_id).expect("backup id");
    let created = snapmgmt_core::now_epoch_seconds() - age_days * 86_400;
    set_backup(&id, serde_json::json!({"creationTime": created, "lifecycle": "AVAILABLE"}));
    id
}

/// Copies an FSx backup of the stack's Region into the copy Region with these tags; returns the copy's id.
pub async fn copy_fsx_backup(source_backup_id: &str, tags: &[(&str, &str)]) -> String {
    copy_fsx_client()
        .await
        .copy_backup()
        .source_region("us-east-1")
        .source_backup_id(source_backup_id)
        .set_tags(non_empty(tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect()))
        .send()
        .await
        .expect("copy backup")
        .backup
        .and_then(|b| b.backup_id)
        .expect("copy id")
}

/// The run the tests' seeded backups were made by.
pub const SEEDED_RUN: &str = "seeded";

/// Our ownership tags for a backup of `file_system_id`, made by run [`SEEDED_RUN`].
pub fn our_tags(file_system_id: &str) -> [(&'static str, &str); 3] {
    snapmgmt_core::tags::ownership(file_system_id, SEEDED_RUN)
}

/// Sets fields of an FSx backup in the emulator (creationTime, lifecycle, type, ownerId).
pub fn set_backup(backup_id: &str, mut fields: Value) {
    fields["backupId"] = Value::from(backup_id);
    control("/moto-api/snapmgmt/fsx/backup", &fields);
}

/// Scripts the outcomes of a file system's next backups, e.g. `[{"lifecycle": "FAILED", "seconds": 0}]`.
pub fn script_next_backups(file_system_id: &str, outcomes: Value) {
    control(
        "/moto-api/snapmgmt/fsx/next-backups",
        &serde_json::json!({"fileSystemId": file_system_id, "outcomes": outcomes}),
    );
}

/// Creates a state machine in the emulator (the trigger needs one to start); returns its ARN.
pub async fn create_state_machine(sfn: &aws_sdk_sfn::Client, name: &str) -> String {
    let definition = r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#;
    sfn.create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(format!("arn:aws:iam::{ACCOUNT_ID}:role/snapmgmt-test"))
        .send()
        .await
        .expect("create state machine")
        .state_machine_arn
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// POSTs JSON to one of the emulator's control routes and returns the JSON answer; panics on failure.
pub fn control(path: &str, body: &Value) -> Value {
    let address = endpoint().trim_start_matches("http://");
    let payload = body.to_string();
    let mut stream = TcpStream::connect(address).expect("connect to the emulator");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )
    .expect("send control request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read control response");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "control {path} failed: {head} {body}"
    );
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Launches an instance with these tags and `extra_volumes` data volumes besides its root; returns its id.
pub async fn create_instance(ec2: &aws_sdk_ec2::Client, tags: &[(&str, &str)], extra_volumes: usize) -> String {
    use aws_sdk_ec2::types::{BlockDeviceMapping, EbsBlockDevice, ResourceType, TagSpecification};
    // A Linux image (moto's list begins with Windows ones, whose instances snapshot-ebs treats as Windows).
    let images = ec2.describe_images().send().await.expect("describe images");
    let linux = images.images().iter().find(|i| i.platform().is_none()).expect("a Linux image");
    let image = linux.image_id().unwrap().to_string();
    let mut request = ec2.run_instances().image_id(image).min_count(1).max_count(1);
    for n in 0..extra_volumes {
        let device = format!("/dev/sd{}", (b'f' + n as u8) as char);
        let ebs = EbsBlockDevice::builder().volume_size(8).build();
        request = request.block_device_mappings(BlockDeviceMapping::builder().device_name(device).ebs(ebs).build());
    }
    if !tags.is_empty() {
        let tags = tags.iter().map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build()).collect();
        let spec = TagSpecification::builder().resource_type(ResourceType::Instance).set_tags(Some(tags)).build();
        request = request.tag_specifications(spec);
    }
    let out = request.send().await.expect("run instances");
    out.instances()[0].instance_id().expect("instance id").to_string()
}

/// Snapshots one of the instance's volumes with these tags, then sets its age (and state) through the
/// emulator's control route; returns its id.
pub async fn create_snapshot(
    ec2: &aws_sdk_ec2::Client,
    instance_id: &str,
    tags: &[(&str, &str)],
    age_days: i64,
) -> String {
    use aws_sdk_ec2::types::{ResourceType, TagSpecification};
    let instance = ec2.describe_instances().instance_ids(instance_id).send().await.expect("describe instance");
    let volume = instance.reservations()[0].instances()[0].block_device_mappings()[0]
        .ebs()
        .and_then(|e| e.volume_id())
        .expect("a volume")
        .to_string();
    let mut request = ec2.create_snapshot().volume_id(volume);
    // What snapmgmt writes on its own snapshots: the Description that names the instance and the run.
    let tag = |key: &str| tags.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    if let (Some(instance), Some(run)) = (tag(snapmgmt_core::tags::TARGET_ID_KEY), tag(snapmgmt_core::tags::RUN_ID_KEY))
    {
        request = request.description(snapmgmt_core::tags::snapshot_description(instance, run));
    }
    if !tags.is_empty() {
        let tags = tags.iter().map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(*v).build()).collect();
        request = request.tag_specifications(
            TagSpecification::builder().resource_type(ResourceType::Snapshot).set_tags(Some(tags)).build(),
        );
    }
    let id = request.send().await.expect("create snapshot").snapshot_id.expect("snapshot id");
    let started = snapmgmt_core::now_epoch_seconds() - age_days * 86_400;
    set_snapshot(&id, serde_json::json!({"startTime": started, "state": "completed"}));
    id
}

/// A completed snapshot set of ours of every volume of the instance, made by run `run_id` `age_days` ago
/// (the emulator's bulk route: its blocks are those of its volumes at that time); its ids, sorted.
pub async fn create_snapshot_set(
    ec2: &aws_sdk_ec2::Client,
    instance_id: &str,
    run_id: &str,
    extra_tags: &[(&str, &str)],
    age_days: f64,
) -> Vec<String> {
    let instance = ec2.describe_instances().instance_ids(instance_id).send().await.expect("describe instance");
    let volumes: Vec<String> = instance.reservations()[0].instances()[0]
        .block_device_mappings()
        .iter()
        .filter_map(|m| m.ebs()?.volume_id().map(str::to_string))
        .collect();
    let mut tags: serde_json::Map<String, Value> =
        our_snapshot_tags(instance_id, run_id).iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
    tags.extend(extra_tags.iter().map(|(k, v)| (k.to_string(), Value::from(*v))));
    let started = snapmgmt_core::now_epoch_seconds() as f64 - age_days * 86_400.0;
    let specs: Vec<Value> =
        volumes.iter().map(|v| serde_json::json!({"volumeId": v, "tags": tags, "startTime": started})).collect();
    let made = control("/moto-api/snapmgmt/ec2/bulk-snapshots", &serde_json::json!({ "snapshots": specs }));
    let mut ids: Vec<String> = made["snapshotIds"]
        .as_array()
        .expect("snapshot ids")
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// A fault on one block of a snapshot as the EBS direct APIs serve it: "corrupt", "drop", or null.
pub fn set_block_fault(snapshot_id: &str, block_index: i32, fault: Value) {
    let body = serde_json::json!({"snapshotId": snapshot_id, "blockIndex": block_index, "fault": fault});
    control("/moto-api/snapmgmt/ebs/block-faults", &body);
}

/// Our tags for a snapshot of `instance_id` made by run `run_id`.
pub fn our_snapshot_tags<'a>(instance_id: &'a str, run_id: &'a str) -> [(&'static str, &'a str); 3] {
    [
        (snapmgmt_core::tags::MANAGED_BY_KEY, snapmgmt_core::tags::MANAGED_BY_VALUE),
        (snapmgmt_core::tags::TARGET_ID_KEY, instance_id),
        (snapmgmt_core::tags::RUN_ID_KEY, run_id),
    ]
}

/// The ids of this account's snapshots tagged as ours for the instance, sorted.
pub async fn snapshots_of(ec2: &aws_sdk_ec2::Client, instance_id: &str) -> Vec<String> {
    let ours = [
        (snapmgmt_core::tags::MANAGED_BY_KEY, snapmgmt_core::tags::MANAGED_BY_VALUE),
        (snapmgmt_core::tags::TARGET_ID_KEY, instance_id),
    ];
    let snapshots =
        snapmgmt_core::aws::ec2::list_own_snapshots(ec2, &ours, snapmgmt_core::aws::ec2::SNAPSHOT_PAGE_SIZE)
            .await
            .expect("list snapshots");
    let mut ids: Vec<String> = snapshots.into_iter().filter_map(|s| s.snapshot_id).collect();
    ids.sort();
    ids
}

/// Sets fields of an EBS snapshot in the emulator (startTime, state, ownerId, inUseBy).
pub fn set_snapshot(snapshot_id: &str, mut fields: Value) {
    fields["snapshotId"] = Value::from(snapshot_id);
    control("/moto-api/snapmgmt/ec2/snapshot", &fields);
}

/// Scripts the outcomes of an instance's next SSM automations, e.g. `[{"status": "Failed"}]`.
pub fn script_next_automations(instance_id: &str, outcomes: Value) {
    control(
        "/moto-api/snapmgmt/ssm/next-automations",
        &serde_json::json!({"instanceId": instance_id, "outcomes": outcomes}),
    );
}

/// A minimal automation document with the shipped document's snapshot step (one CreateSnapshots,
/// tagged at creation); its name. The shipped document itself runs in the end-to-end tests.
pub async fn create_snapshot_document(ssm: &aws_sdk_ssm::Client) -> String {
    let name = unique("snapshot-document");
    let content = serde_json::json!({
        "schemaVersion": "0.3",
        // A parameter without a default is required, as AWS holds it at the start.
        "parameters": {"InstanceId": {"type": "String"}, "ExecutionId": {"type": "String", "default": "run"},
                       "Attempt": {"type": "String", "default": "0"},
                       "ExcludeBootVolume": {"type": "Boolean", "default": false},
                       "VssExcludeBootVolume": {"type": "String", "default": "False"},
                       "StackId": {"type": "String", "default": ""},
                       "Volumes": {"type": "String", "default": ""},
                       "AutomationAssumeRole": {"type": "String", "default": ""}},
        // Only what the document declares comes back in the execution's Outputs.
        "outputs": ["CreateSnapshots.SnapshotIds"],
        "mainSteps": [{
            "name": "CreateSnapshots", "action": "aws:executeAwsApi",
            "inputs": {"Service": "ec2", "Api": "CreateSnapshots",
                       "InstanceSpecification": {"InstanceId": "{{ InstanceId }}", "ExcludeBootVolume": "{{ ExcludeBootVolume }}"},
                       "TagSpecifications": [{"ResourceType": "snapshot", "Tags": [
                           {"Key": "ManagedBy", "Value": "snapmgmt"}, {"Key": "snapmgmt:TargetId", "Value": "{{ InstanceId }}"},
                           {"Key": "snapmgmt:RunId", "Value": "{{ ExecutionId }}"}, {"Key": "snapmgmt:Attempt", "Value": "{{ Attempt }}"},
                           {"Key": "snapmgmt:Stack", "Value": "{{ StackId }}"},
                           {"Key": "snapmgmt:Volumes", "Value": "{{ Volumes }}"}]}]},
            "outputs": [{"Name": "SnapshotIds", "Selector": "$.Snapshots..SnapshotId", "Type": "StringList"}],
            "isEnd": true}]
    });
    ssm.create_document()
        .name(&name)
        .content(content.to_string())
        .document_type(aws_sdk_ssm::types::DocumentType::Automation)
        .document_format(aws_sdk_ssm::types::DocumentFormat::Json)
        .send()
        .await
        .expect("create document");
    name
}

/// Creates an EFS file system with these tags; returns its id.
pub async fn create_efs(efs: &aws_sdk_efs::Client, tags: &[(&str, &str)]) -> String {
    let tags = tags.iter().map(|(k, v)| aws_sdk_efs::types::Tag::builder().key(*k).value(*v).build().unwrap());
    let out = efs
        .create_file_system()
        .creation_token(unique("efs"))
        .set_tags(Some(tags.collect()))
        .send()
        .await
        .expect("create EFS file system");
    out.file_system_id
}

/// Creates an EFS file system with these tags; returns its id and its ARN.
pub async fn create_efs_with_arn(efs: &aws_sdk_efs::Client, tags: &[(&str, &str)]) -> (String, String) {
    let id = create_efs(efs, tags).await;
    let out = efs.describe_file_systems().file_system_id(&id).send().await.expect("describe EFS file system");
    let arn = out.file_systems()[0].file_system_arn().expect("file system ARN").to_string();
    (id, arn)
}

/// Creates a backup vault; returns its name.
pub async fn create_vault(backup: &aws_sdk_backup::Client) -> String {
    let name = unique("vault");
    backup.create_backup_vault().backup_vault_name(&name).send().await.expect("create vault");
    name
}

/// Scripts the outcomes of a resource's next backup jobs, e.g. `[{"state": "FAILED", "message": "..."}]`.
pub fn script_next_backup_jobs(resource_arn: &str, outcomes: Value) {
    control(
        "/moto-api/snapmgmt/backup/next-jobs",
        &serde_json::json!({"resourceArn": resource_arn, "outcomes": outcomes}),
    );
}

/// Recovery points of a resource in a vault, as completed jobs leave them, made `age_days` ago; each spec is
/// `{"tags": {...}, "ageDays": n, "status"?: "CREATING", "inUse"?: true}`. Their ARNs, in order.
pub fn create_recovery_points(vault: &str, resource_arn: &str, specs: &[Value]) -> Vec<String> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let points: Vec<Value> = specs
        .iter()
        .map(|spec| {
            let mut point = spec.clone();
            let age = spec["ageDays"].as_f64().unwrap_or(0.0);
            point["creationDate"] = serde_json::json!(now - age * 86_400.0);
            point
        })
        .collect();
    let out = control(
        "/moto-api/snapmgmt/backup/recovery-points",
        &serde_json::json!({"vault": vault, "resourceArn": resource_arn, "points": points}),
    );
    out["recoveryPointArns"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect()
}

/// The ARNs of a resource's recovery points in a vault, sorted.
pub async fn recovery_points_of(backup: &aws_sdk_backup::Client, vault: &str, resource_arn: &str) -> Vec<String> {
    let out = backup
        .list_recovery_points_by_backup_vault()
        .backup_vault_name(vault)
        .by_resource_arn(resource_arn)
        .send()
        .await
        .expect("list recovery points");
    let mut arns: Vec<String> =
        out.recovery_points().iter().filter_map(|p| p.recovery_point_arn().map(str::to_string)).collect();
    arns.sort();
    arns
}

/// Our tags on an EFS recovery point of this run.
pub fn our_point_tags(file_system_id: &str, run_id: &str) -> Value {
    serde_json::json!({"ManagedBy": "snapmgmt", "snapmgmt:TargetId": file_system_id, "snapmgmt:RunId": run_id})
}
