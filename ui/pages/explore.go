package pages

// exploreRoutes returns the routes of the explore pages.
func (p *Pages) exploreRoutes() []Route { return nil }
