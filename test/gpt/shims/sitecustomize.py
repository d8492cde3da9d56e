# Test-only: put on PYTHONPATH by test_evaluate so that every Python process of a test (the
# evaluate step's parent and child included) runs train.py on an old CPU PyTorch.
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import torch
except ImportError:
    torch = None
if torch is not None:
    from torch_shims import install_shims
    install_shims(torch)
