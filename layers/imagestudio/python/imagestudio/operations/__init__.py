"""Operations: validated input and ports in, a result out. They know neither AWS events nor HTTP."""
