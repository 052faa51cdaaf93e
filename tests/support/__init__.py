"""Helpers shared by several test modules: multi-instance processes, fakes, the Lua harness, the page object."""
