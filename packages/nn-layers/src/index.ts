// Public API of @fathom/nn-layers.
