"""Cells: build, normalise, validate and hash architectures.

Run: python docs/examples/cells.py
"""

from skassess import Cell, as_cells
from skassess.spaces import NASBench101

cell = Cell(
    [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
)
print(cell)

# Every common spelling of a cell is understood, once, by as_cells.
same = as_cells([{"matrix": cell.matrix.tolist(), "ops": list(cell.ops)}])[0]
assert same == cell

space = NASBench101()
print("valid in NAS-Bench-101:", space.is_valid(cell))
print("official hash:", space.hash(cell))

# Swapping the two inner vertices gives an isomorphic cell with the same hash.
swapped = Cell(
    [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    ["input", "maxpool3x3", "conv3x3-bn-relu", "output"],
)
assert swapped != cell and space.hash(swapped) == space.hash(cell)

print("random cells:", len(space.sample(5, random_state=0)))
print("a mutation:", space.mutate(cell, random_state=0))
