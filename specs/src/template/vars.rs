//! The variables a template reads: the vocabulary of `specs/README.md` ("Answer templates"), one
//! enum per namespace, each variable with the name a template writes.

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $namespace:literal { $($variant:ident = $word:literal, $doc:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = concat!("`", $namespace, ".", $word, "`: ", $doc)]
                $variant,
            )*
        }

        impl $name {
            /// Every variable of the namespace.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The name after the namespace (`created.ms` of `job.created.ms`).
            pub fn word(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)*
                }
            }

            /// The variable called `word` (after the namespace).
            pub fn from_word(word: &str) -> Option<$name> {
                match word {
                    $($word => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// Every name, for messages (`job.id, job.status, ...`).
            pub fn names() -> String {
                [$(concat!($namespace, ".", $word)),*].join(", ")
            }
        }
    };
}

vocabulary! {
    /// A variable of the job an answer is about (`job.*`): in the `created`, `result` and `webhook`
    /// templates.
    JobVar, "job" {
        Id = "id", "the job id, a string";
        NumericId = "numeric_id", "the job id as a JSON number when it is one (`sequence` ids), else the string";
        Status = "status", "the status word of the job's stage (`x-job.stages`)";
        Stage = "stage", "the stage: `queued`, `processing`, `succeeded` or `failed`";
        Progress = "progress", "0 while queued, rising while processing (at most 99), 100 once ended (an integer)";
        ProgressRatio = "progress_ratio", "`progress` as a fraction 0..1";
        Seed = "seed", "the seed of image 0: a number while it fits a signed 64-bit integer, else its decimal string";
        Format = "format", "the output format (`png`, `jpeg`, `webp`)";
        Width = "width", "the output width, in pixels";
        Height = "height", "the output height, in pixels";
        Count = "count", "how many images the job makes";
        Steps = "steps", "the steps it renders with";
        Strength = "strength", "the strength it renders with (a float)";
        Guidance = "guidance", "the guidance it renders with (a float)";
        Prompt = "prompt", "the prompt (`\"\"` without one)";
        NegativePrompt = "negative_prompt", "the negative prompt (`\"\"` without one)";
        Reason = "reason", "why the job failed; absent unless it failed";
        ResultUrl = "result_url", "the absolute URL of the job's result operation, in the API family it was created through, with the id in its path or query";
        WebhookStatus = "webhook_status", "how the webhook went (`success`, `failed: ...`, `skipped: ...`; `\"\"` before)";
        NsfwDetection = "nsfw_detection", "whether the request asked for NSFW detection (`x-feature: nsfw_detection`)";
        InlineBase64 = "inline_base64", "whether the request asked for images inline (`x-feature: inline_base64`)";
        InputUrl = "input_url", "the init image when the request sent it as an http(s) URL; absent otherwise";
        CreatedMs = "created.ms", "when the job was created, in ms since the Unix epoch (an integer)";
        CreatedS = "created.s", "when the job was created, in seconds since the Unix epoch (a float)";
        StartedMs = "started.ms", "when processing started, in ms since the Unix epoch; absent before";
        StartedS = "started.s", "when processing started, in seconds since the Unix epoch (a float); absent before";
        FinishedMs = "finished.ms", "when the job ended, in ms since the Unix epoch; absent before";
        FinishedS = "finished.s", "when the job ended, in seconds since the Unix epoch (a float); absent before";
        EtaS = "eta.s", "the time left, in seconds (a float; 0 once ended)";
        EtaWholeS = "eta.whole_s", "the time left, in whole seconds rounded up";
        EtaMs = "eta.ms", "the time left, in whole ms";
        ExecutionMs = "execution.ms", "the processing time so far (until the end once ended; 0 before it starts), in whole ms";
        ExecutionS = "execution.s", "the processing time so far, in seconds (a float)";
        UrlTtlWholeS = "url_ttl.whole_s", "how long the output URLs live, in whole seconds";
    }
}

vocabulary! {
    /// A variable of the error an answer is about (`error.*`): in the `error` and `not-found`
    /// templates.
    ErrorVar, "error" {
        Status = "status", "the HTTP status of the answer";
        Message = "message", "what went wrong, naming the field, the value and the allowed range where there is one";
        Reason = "reason", "the reason `x-errors` lists for the error's kind and status (`\"\"` when it lists none)";
        Cause = "cause", "what happened, in the emulator's words: `invalid_request`, `too_large`, `missing_key`, `wrong_key`, `not_found`, `rate_limited`, `unavailable` or `fault`";
        RetryAfter = "retry_after", "the wait a rate-limited answer asks for, in seconds; absent otherwise";
        ServerError = "server_error", "whether the status is a 5xx";
        Field = "field", "the first field a refused request body got wrong (`request.width`); absent otherwise";
        JobId = "job_id", "the id a not-found answer is about";
        JobStatus = "job_status", "the status word of `x-not-found.job-status`; absent where it gives none";
    }
}

vocabulary! {
    /// A field of one output image, inside a `$map` over `job.outputs` or `job.future_outputs`.
    OutputField, "<image>" {
        Url = "url", "its absolute URL on the emulator";
        Base64 = "base64", "its bytes in base64 (rendered when a template reads it)";
        Index = "index", "its index, from 0";
        Seed = "seed", "its seed (the job's seed plus its index)";
        Name = "name", "its file name (`<job id>-<index>.<format>`)";
    }
}
