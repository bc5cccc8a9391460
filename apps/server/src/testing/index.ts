// Server test helpers land with the server issue.
export {};
