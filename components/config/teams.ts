/**
 * The teams alerts are routed to (by their `team` label), each paged through its own webhook
 * (rtdw:alertWebhooks). Every team owns at least one alert (tests/unit/alerts.test.ts).
 */
export const TEAMS = ["ops", "business", "data", "infra"] as const;
export type Team = (typeof TEAMS)[number];
