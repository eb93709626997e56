"""Last in the suite (the name sorts last; `make e2e` runs it after the parallel workers, reading what their
stacks saw too): what IAM enforcement saw over every test before it. No call was
denied that a test did not make to be denied, and every permission template.yaml grants was used by some
call, or is justified in the template as one no local call can use."""

import conftest
import iam_usage


def test_no_call_was_denied_but_those_made_to_be(local_stack):
    provoked = conftest.PROVOKED_DENIALS | iam_usage.saved_provoked()
    denied = [d for d in iam_usage.denied(iam_usage.decisions()) if (d[1], d[2]) not in provoked]
    lines = [f"{principal} may not {action} on {resource}" for principal, action, resource in denied]
    assert not lines, "denied by the policies of template.yaml:\n" + "\n".join(lines)


def test_every_permission_granted_was_used_or_is_justified_in_the_template(local_stack):
    made = iam_usage.decisions()
    assert len(made) > 100, "the suite ran with IAM enforced"
    lines = [f"{role}: {statement}: {action}" for role, statement, action in iam_usage.unused(made)]
    assert not lines, (
        "granted but never used: remove it from template.yaml, or justify it with a comment\n"
        "`# Not exercised locally: <why>` above its statement's Sid:\n" + "\n".join(lines)
    )
