"""Protocol conformance: jupyter_kernel_test's suite against the real cellar kernel.

Every sample attribute is set, so no test of the suite is skipped.
"""
import unittest

import jupyter_kernel_test as jkt
from jupyter_client.manager import start_new_kernel

from conftest import CELL_TIMEOUT, KERNEL_NAME, STARTUP_TIMEOUT

# A 1x1 PNG, base64-encoded by cellar::display::png.
PNG = "[137,80,78,71,13,10,26,10,0,0,0,13,73,72,68,82,0,0,0,1,0,0,0,1,8,6,0,0,0,31,21,196,137]"


class CellarKernelTests(jkt.KernelTests):
    kernel_name = KERNEL_NAME
    language_name = "rust"
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("something went wrong");'
    code_generate_error = 'let n: i32 = "not a number";'
    code_execute_result = [
        {"code": "1 + 2", "result": "3"},
        {"code": '"cellar".len()', "result": "6"},
        {"code": "vec![1, 2, 3]", "result": "[1, 2, 3]"},
    ]
    code_display_data = [
        {"code": 'cellar::display::html("<b>bold</b>");', "mime": "text/html"},
        {"code": f"cellar::display::png(&{PNG});", "mime": "image/png"},
        {"code": 'cellar::display::markdown("# Title");', "mime": "text/markdown"},
    ]
    code_clear_output = 'println!("soon gone"); cellar::display::clear_output(false);'
    code_page_something = ":doc Vec"
    code_inspect_sample = "String::from"
    completion_samples = [
        {"text": "let numbers = vec![1, 2, 3]; numbers.iter().su", "matches": {"sum()"}},
        {"text": "std::mem::swa"},
    ]
    complete_code_samples = ["1 + 1", "fn f() -> i32 { 1 }", 'let s = "}";', "let c = '{';"]
    incomplete_code_samples = ["fn f() {", "let v = vec![1,", 'let s = "open', "/* comment"]
    invalid_code_samples = ["}", "fn f() { )", "let v = [1, 2);"]
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "1 + 2"

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, startup_timeout=STARTUP_TIMEOUT)

    def execute_helper(self, code, timeout=CELL_TIMEOUT, **kwargs):
        # The suite's default (15 s) does not leave room for compiling a cell.
        return super().execute_helper(code, timeout=timeout, **kwargs)


class CellarIopubWelcomeTests(jkt.IopubWelcomeTests):
    kernel_name = KERNEL_NAME
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
