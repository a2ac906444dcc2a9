"""What is kept about customers and for how long: exporting and forgetting a customer's data,
their in-chat data requests queued for the operator, and the conversation retention sweep."""
