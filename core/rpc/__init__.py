"""gRPC servicers: proto → service call → proto, nothing else."""
