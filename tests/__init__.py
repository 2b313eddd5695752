"""The test suite: test modules mirror src/regression_analyzer/ (stats/, loading/, charts/,
jobs/, api/, llm/), deployment/ checks the deployment material, container/ the image; what
they share is in helpers/ (tests.helpers), their fixtures in conftest.py files."""

import pytest

# Registered before tests.helpers is first imported: as in conftest and test modules, a
# failing assert in a helper (start_analysis, one_line...) shows the values it compared.
pytest.register_assert_rewrite("tests.helpers")
