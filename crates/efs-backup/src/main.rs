fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::serve::serve::<efs_backup::EfsBackup>()
}
