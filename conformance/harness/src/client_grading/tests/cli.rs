use super::*;

#[test]
fn the_client_is_named_after_its_command_or_script() {
    let name = |args: &[&str]| client_name(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        name(&["target/debug/img2img", "--provider", "novita"]),
        "img2img"
    );
    assert_eq!(
        name(&["python3", "-u", "grade/novita_job.py"]),
        "novita_job"
    );
    assert_eq!(name(&["node", "novita_sdk_job.mjs"]), "novita_sdk_job");
    assert_eq!(name(&["python3"]), "python3");
    assert_eq!(name(&["env", "DEADLINE=8", "python3", "job.py"]), "job");
}
