"""AI providers behind one small protocol: real adapters (Stability, WaveSpeed, HuggingFace, Gemini)
and the offline provider that makes real images with Pillow."""
