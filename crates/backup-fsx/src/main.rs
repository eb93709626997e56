fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::serve::serve::<backup_fsx::BackupFsx>()
}
