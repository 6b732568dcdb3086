"""The parts of ``benchmarks/overhead.py``, one measurement per function.

* ``variants``: the optimizers, schedulers and warmups being measured, each a step function;
* ``timing``: thread CPU time and wall clock in alternated blocks (tight loop, attached
  table, training step);
* ``callgrind``: instructions per update and per import, counted by valgrind's callgrind;
* ``ops``: torch ops dispatched per update (``TorchDispatchMode``);
* ``imports``: what ``import pytorch_warmup`` costs, next to the original 0.2.0 release;
* ``memory``: growth of the Python heap and of the live tensors;
* ``report``: the printed tables.
"""
