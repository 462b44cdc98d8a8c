"""The Explore page's sections: the map and its controls, what a click shows, and the model's details."""
