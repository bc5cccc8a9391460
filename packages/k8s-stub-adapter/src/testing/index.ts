// The simulated Kubernetes WorkerProvider lands with the Kubernetes stub issue.
export {};
