fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::serve::serve::<snapshot_ebs::SnapshotEbs>()
}
