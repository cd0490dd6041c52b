"""Multiparty lattice encryption (RLWE, BFV-style exact integers) through a Lattigo helper process.

Why a long-lived helper process rather than a c-shared library loaded with ctypes: the roles that
encrypt run inside TensorFlow and gRPC processes, and a Go runtime loaded into them brings its own
threads and signal handlers into a process that already has two other runtimes; a Go panic in a
shared library kills the participant, whereas a dead helper is an error the caller can report and
restart. The cost of the process boundary is one pipe copy: 101,770 values are about 0.8 MB in and
1.7 MB out per call, a millisecond or two, against tens of milliseconds of ring arithmetic. CI needs
only ``go build`` (no cgo, no C toolchain), and the helper is a static binary.
"""
