"""The Train page's sections: the new run's form, the run shown, live and once it is over."""
