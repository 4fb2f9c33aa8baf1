package pages

// alertRoutes returns the routes of the alerts pages.
func (p *Pages) alertRoutes() []Route { return nil }
