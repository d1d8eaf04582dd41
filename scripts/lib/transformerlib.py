"""What the transformer scripts share: the label maps of a token- or sequence-classification
config and the module that torch.onnx traces (input ids, attention mask and, for BERT, token
type ids -> logits). Imported by scripts/gen/make_tiny_transformers.py (writes the parity
fixtures in fixtures/tiny/) and scripts/bench/bench_transformers.py (the real-size benchmark);
it imports nothing from scripts/ outside scripts/lib/.

Needs torch (the pinned venv of scripts/gen/make_tiny_transformers.py).
"""

import torch


def labels(names):
    """(id2label, label2id) of a classification config."""
    return {i: n for i, n in enumerate(names)}, {n: i for i, n in enumerate(names)}


class Logits(torch.nn.Module):
    """A Hugging Face classification model as the ONNX export sees it: named inputs in, logits
    out (token_type_ids only when `with_types`)."""

    def __init__(self, model, with_types):
        super().__init__()
        self.model = model
        self.with_types = with_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        if self.with_types:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).logits
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits
