"""The ipykernel internals the `ml` kernel relies on (docs/kernel.md, "ipykernel internals we
rely on"): one test each, so an ipykernel upgrade that moves one fails here, loudly, instead of
breaking input(), interrupts or kernel_info in a notebook."""

from __future__ import annotations

import inspect

import ipykernel._version
from ipykernel.kernelbase import Kernel

from ml_kernel.kernel import MLKernel


def test_protocol_version_is_importable_and_5_x() -> None:
    # kernel_info reports it; ipykernel keeps it in a private module
    assert ipykernel._version.kernel_protocol_version.startswith("5.")


def test_input_request_routes_by_shell_parent_ident() -> None:
    # ML's input() runs on a worker thread: the kernel captures the shell parent's ident
    # (a ContextVar read through _get_shell_context_var) before the cell starts and hands
    # it to _input_request, which tags the stdin request with it
    assert "_shell_parent_ident" in inspect.getsource(Kernel.__init__)
    assert list(inspect.signature(Kernel._get_shell_context_var).parameters) == ["self", "var"]
    params = inspect.signature(Kernel._input_request).parameters
    assert list(params)[:4] == ["self", "prompt", "ident", "parent"] and "password" in params


def test_handler_hooks_wrap_every_shell_message() -> None:
    # the ML kernel overrides both with no-ops to keep its own SIGINT handler (which cancels
    # the running cell) instead of ipykernel's KeyboardInterrupt swap
    source = inspect.getsource(Kernel.dispatch_shell)
    assert "pre_handler_hook" in source and "post_handler_hook" in source
    assert MLKernel.pre_handler_hook is not Kernel.pre_handler_hook
    assert MLKernel.post_handler_hook is not Kernel.post_handler_hook


def test_kernel_info_is_a_property_read_by_the_request_handler() -> None:
    # the ML kernel replaces the property so the base class does not import debugpy
    assert isinstance(Kernel.__dict__["kernel_info"], property)
    assert "self.kernel_info" in inspect.getsource(Kernel.kernel_info_request)
    assert isinstance(MLKernel.__dict__["kernel_info"], property)


def test_io_loop_exposes_its_asyncio_loop() -> None:
    # output batches and interrupts are scheduled on the shell's asyncio loop
    from tornado.platform.asyncio import BaseAsyncIOLoop
    assert "self.asyncio_loop = asyncio_loop" in inspect.getsource(BaseAsyncIOLoop.initialize)
