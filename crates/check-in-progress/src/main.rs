fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::serve::serve::<check_in_progress::CheckInProgress>()
}
