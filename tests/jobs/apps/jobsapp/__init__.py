"""A small application the ``loom worker`` subprocess tests run."""
