//! Reading a line from the person running the notebook.
//!
//! In a cell, stdin is not a terminal: the kernel asks the client for input (`input_request`
//! on the stdin channel) and hands the answer back. evcxr's input protocol does the round trip.

/// Asks for a line of input, showing `prompt`; returns it without the trailing newline.
/// Clients that do not allow input (nbconvert, for one) answer with an empty string.
pub fn input(prompt: &str) -> String {
    evcxr_input::get_string(prompt)
}

/// Like [`input`], but the client hides what is typed.
pub fn password(prompt: &str) -> String {
    evcxr_input::get_password(prompt)
}
