package pages

// dashboardRoutes returns the routes of the dashboards pages.
func (p *Pages) dashboardRoutes() []Route { return nil }
