fn main() -> Result<(), lambda_runtime::Error> {
    snapmgmt_core::serve::serve::<verify::Verify>()
}
