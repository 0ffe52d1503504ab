"""Models: embedders (local ONNX, litellm, hashing) and the LLM used for summaries."""
