//! Unit tests of the EC2 path that need no AWS.

use super::*;

#[test]
fn client_token_is_a_uuid_stable_per_attempt() {
    let token = client_token("run", "i-0123456789abcdef0", 0);
    let groups: Vec<usize> = token.split('-').map(str::len).collect();
    assert_eq!(groups, vec![8, 4, 4, 4, 12], "{token}");
    assert_eq!(token, client_token("run", "i-0123456789abcdef0", 0));
    assert_ne!(token, client_token("run", "i-0123456789abcdef0", 1));
}
