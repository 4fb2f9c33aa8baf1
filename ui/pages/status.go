package pages

// statusRoutes returns the routes of the status pages.
func (p *Pages) statusRoutes() []Route { return nil }
