//! The `img2img` command: `img2img --provider ID --image in.png --prompt "a fox" --model M`,
//! or `img2img resume HANDLE`. See `img2img --help`.

fn main() -> std::process::ExitCode {
    img2img_client::run_command()
}
